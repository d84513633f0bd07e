<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/dimensions.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/dimensions.php';
