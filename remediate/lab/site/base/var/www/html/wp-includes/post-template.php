<?php
/**
 * WordPress-like lab stub for wp-includes/post-template.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'post-template.php';
