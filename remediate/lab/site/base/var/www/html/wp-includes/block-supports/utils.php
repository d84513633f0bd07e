<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/utils.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/utils.php';
