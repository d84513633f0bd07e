<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/layout.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/layout.php';
