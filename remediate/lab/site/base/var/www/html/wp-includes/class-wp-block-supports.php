<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-block-supports.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-block-supports.php';
