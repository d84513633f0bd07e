<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-block-type.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-block-type.php';
